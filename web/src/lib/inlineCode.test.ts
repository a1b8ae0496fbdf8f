import { describe, expect, it } from "vitest";
import { splitInlineCode } from "./inlineCode";

describe("inline code in texts", () => {
  it("turns backticked parts into code and drops the backticks", () => {
    expect(splitInlineCode("`vtm publish` registers a task's best run.")).toEqual([
      { text: "vtm publish", code: true },
      { text: " registers a task's best run.", code: false },
    ]);
    expect(splitInlineCode("set `A` and `B`")).toEqual([
      { text: "set ", code: false },
      { text: "A", code: true },
      { text: " and ", code: false },
      { text: "B", code: true },
    ]);
  });

  it("leaves a text without a pair of backticks as it is", () => {
    expect(splitInlineCode("plain")).toEqual([{ text: "plain", code: false }]);
    expect(splitInlineCode("it`s")).toEqual([{ text: "it`s", code: false }]);
    expect(splitInlineCode("")).toEqual([]);
  });
});
