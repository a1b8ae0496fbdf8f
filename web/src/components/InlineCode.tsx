import { splitInlineCode } from "../lib/inlineCode";

/** A text with its `backticked` parts as <code>. */
export function InlineCode({ text }: { text: string }) {
  return (
    <>{splitInlineCode(text).map((part, i) => (part.code ? <code key={i}>{part.text}</code> : part.text))}</>
  );
}
