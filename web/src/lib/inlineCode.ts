// Texts written by people (catalog descriptions and help, the UI's own sentences) mark commands
// and names with Markdown's backticks; shown literally, "`vtm publish`" reads as noise.

export interface TextPart {
  text: string;
  code: boolean;
}

/** "run `vtm publish` now" → "run ", code "vtm publish", " now". A lone backtick stays text. */
export function splitInlineCode(text: string): TextPart[] {
  const parts: TextPart[] = [];
  const pattern = /`([^`]+)`/g;
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > at) parts.push({ text: text.slice(at, match.index), code: false });
    parts.push({ text: match[1] ?? "", code: true });
    at = match.index + match[0].length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), code: false });
  return parts;
}
