import { useEffect, useRef } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { ConnectionStatus } from "./ConnectionStatus";

/** Header, navigation and the page. */
export function Layout() {
  const section = useLocation().pathname.split("/")[1] ?? "";
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => {
    // A client-side page change leaves focus on a control that may be gone; put it at the new
    // page's start, as a full page load would. Not on first load, and not within a section
    // (picking a task on /launch must keep focus in the task list).
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    main.current?.focus();
  }, [section]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <NavLink to="/" className="brand" end>
          VTM
        </NavLink>
        <nav aria-label="Main" className="main-nav">
          <NavLink to="/" end data-testid="nav-live">
            Live
          </NavLink>
          <NavLink to="/launch" data-testid="nav-launch">
            Launch
          </NavLink>
          <NavLink to="/history" data-testid="nav-history">
            History
          </NavLink>
          <NavLink to="/mlflow" data-testid="nav-mlflow">
            MLflow
          </NavLink>
          <NavLink to="/pipelines" data-testid="nav-pipelines">
            Pipelines
          </NavLink>
        </nav>
        <ConnectionStatus />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
