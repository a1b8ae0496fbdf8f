// A server started with VTM_TOKEN wants the token on every API call. Opening the UI once as
// `/?token=...` stores it in this browser; it is then sent as a Bearer header (and as ?token= on
// the event stream, which cannot carry headers) and removed from the address bar.
const KEY = "vtm.token";

export function getToken(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null; // storage disabled (private mode, sandboxed frame): no token
  }
}

export function adoptTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token");
  if (token === null) return;
  try {
    window.localStorage.setItem(KEY, token);
  } catch {
    return;
  }
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.toString());
}
