import { useSyncExternalStore } from "react";

const QUERY = "(prefers-color-scheme: dark)";

function media(): MediaQueryList | null {
  return typeof window !== "undefined" && window.matchMedia ? window.matchMedia(QUERY) : null;
}

function subscribe(listener: () => void): () => void {
  const list = media();
  list?.addEventListener("change", listener);
  return () => list?.removeEventListener("change", listener);
}

/** Charts draw on a canvas, so they must be told when the OS switches light/dark. */
export function usePrefersDark(): boolean {
  return useSyncExternalStore(subscribe, () => media()?.matches ?? false);
}
