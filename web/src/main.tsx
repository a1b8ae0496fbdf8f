import { QueryClient } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { api } from "./api/client";
import { RunEventStream } from "./api/events";
import { shouldRetry } from "./api/queries";
import { adoptTokenFromUrl } from "./api/token";
import "./styles.css";

adoptTokenFromUrl();

const client = new QueryClient({
  defaultOptions: {
    queries: {
      retry: shouldRetry,
      // The event stream keeps run data current; refetching on focus would only add load.
      refetchOnWindowFocus: false,
      staleTime: 5_000,
    },
  },
});
const stream = new RunEventStream(client, { url: api.eventsUrl });

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App client={client} stream={stream} />
  </StrictMode>,
);
