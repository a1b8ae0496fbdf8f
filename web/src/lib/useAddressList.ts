// A list kept in the address (?key=a,b) that checkboxes can be bound to.
import { useState } from "react";
import { useSearchParams } from "react-router";
import { readList, writeList } from "./historyParams";

/**
 * Held as state as well as in the address: a router navigation lands a moment after the click,
 * and a checkbox bound to the address alone would snap back meanwhile. When the address changes
 * by itself (Back, a pasted link), the state follows it.
 */
export function useAddressList(key: string, max = Infinity): [string[], (values: string[]) => void] {
  const [params, setParams] = useSearchParams();
  const inAddress = params.get(key) ?? "";
  const [seen, setSeen] = useState(inAddress);
  const [values, setValues] = useState(() => readList(params, key).slice(0, max));
  if (inAddress !== seen) {
    setSeen(inAddress);
    setValues(readList(params, key).slice(0, max));
  }
  const update = (next: string[]) => {
    const kept = next.slice(0, max);
    setValues(kept);
    setParams((current) => writeList(current, key, kept), { replace: true });
  };
  return [values, update];
}
