import { createContext, useContext, useEffect, useSyncExternalStore, type ReactNode } from "react";
import type { ConnectionState, RunEventStream } from "./events";

const StreamContext = createContext<RunEventStream | null>(null);

/** Runs the event stream for as long as the app is mounted. */
export function EventStreamProvider(props: { stream: RunEventStream; children: ReactNode }) {
  const { stream } = props;
  useEffect(() => {
    stream.start();
    return () => stream.stop();
  }, [stream]);
  return <StreamContext.Provider value={stream}>{props.children}</StreamContext.Provider>;
}

const noSubscription = () => () => {};
const connecting = (): ConnectionState => "connecting";

export function useConnectionState(): ConnectionState {
  const stream = useContext(StreamContext);
  return useSyncExternalStore(
    stream ? stream.subscribe : noSubscription,
    stream ? stream.getState : connecting,
  );
}
