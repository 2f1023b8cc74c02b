/**
 * Strict JSON syntax (RFC 8259) with the offset of the first error. Node 20's JSON.parse often
 * reports no position, so the definition file and the job parameters use this scanner to point at
 * the exact line and column. Iterative, so deep nesting cannot overflow the stack; the depth is
 * capped anyway.
 */

/** JSON nesting limit; a valid definition is 4 levels deep. */
export const MAX_JSON_DEPTH = 64;

export interface JsonSyntaxIssue {
  offset: number;
  message: string;
}

class JsonSyntaxFailure extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export function findJsonSyntaxError(text: string): JsonSyntaxIssue | undefined {
  try {
    new JsonScanner(text).scan();
    return undefined;
  } catch (error) {
    if (error instanceof JsonSyntaxFailure) return { offset: error.offset, message: error.message };
    throw error;
  }
}

type ScanState = "value" | "key" | "after";
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SIMPLE_ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

class JsonScanner {
  private pos = 0;
  private readonly open: Array<"{" | "["> = [];

  constructor(private readonly text: string) {}

  scan(): void {
    let state: ScanState = "value";
    for (;;) {
      this.skipWhitespace();
      if (state === "value") state = this.value();
      else if (state === "key") state = this.key();
      else if (this.open.length > 0) state = this.afterValue();
      else break;
    }
    if (this.pos < this.text.length) this.unexpected("unexpected ", " after the end of the document");
  }

  private fail(offset: number, message: string): never {
    throw new JsonSyntaxFailure(offset, `invalid JSON: ${message}`);
  }

  /** Fails at the current position with `${before}${what is here}${after}`, plus a hint. */
  private unexpected(before: string, after = ""): never {
    const { what, hint } = this.found();
    return this.fail(this.pos, `${before}${what}${after}${hint}`);
  }

  private skipWhitespace(): void {
    while (/[ \t\n\r]/.test(this.text.charAt(this.pos))) this.pos++;
  }

  private value(): ScanState {
    const char = this.text.charAt(this.pos);
    if (char === "{" || char === "[") return this.openContainer(char);
    if (char === '"') {
      this.string();
      return "after";
    }
    if (char === "-" || /\d/.test(char)) {
      this.number();
      return "after";
    }
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return "after";
      }
    }
    return this.unexpected("expected a value, found ");
  }

  private openContainer(char: "{" | "["): ScanState {
    if (this.open.length >= MAX_JSON_DEPTH)
      this.fail(this.pos, `nested more than ${MAX_JSON_DEPTH} levels deep`);
    this.open.push(char);
    this.pos++;
    this.skipWhitespace();
    const close = char === "{" ? "}" : "]";
    if (this.text.charAt(this.pos) === close) {
      this.pos++;
      this.open.pop();
      return "after";
    }
    return char === "{" ? "key" : "value";
  }

  private key(): ScanState {
    if (this.text.charAt(this.pos) !== '"') this.unexpected("expected a double-quoted key, found ");
    this.string();
    this.skipWhitespace();
    if (this.text.charAt(this.pos) !== ":") this.unexpected('expected ":" after the key, found ');
    this.pos++;
    return "value";
  }

  private afterValue(): ScanState {
    const inObject = this.open.at(-1) === "{";
    const close = inObject ? "}" : "]";
    const char = this.text.charAt(this.pos);
    if (char === ",") {
      const comma = this.pos++;
      this.skipWhitespace();
      if (this.text.charAt(this.pos) === close) this.fail(comma, `trailing comma before "${close}"`);
      return inObject ? "key" : "value";
    }
    if (char === close) {
      this.pos++;
      this.open.pop();
      return "after";
    }
    return this.unexpected(
      `expected "," or "${close}" after ${inObject ? "a property value" : "an array element"}, found `,
    );
  }

  private string(): void {
    const start = this.pos++;
    for (;;) {
      if (this.pos >= this.text.length) this.fail(start, "unterminated string");
      const char = this.text.charAt(this.pos);
      if (char === '"') {
        this.pos++;
        return;
      }
      if (char === "\\") this.escape(start);
      else if (char < " ") this.fail(this.pos, controlCharacterMessage(char));
      else this.pos++;
    }
  }

  private escape(stringStart: number): void {
    const next = this.text.charAt(this.pos + 1);
    if (next === "") this.fail(stringStart, "unterminated string");
    if (SIMPLE_ESCAPES.has(next)) {
      this.pos += 2;
    } else if (next === "u" && /^[0-9A-Fa-f]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
      this.pos += 6;
    } else {
      const shown = next === "u" ? this.text.slice(this.pos, this.pos + 6) : `\\${next}`;
      this.fail(this.pos, `invalid escape "${shown}" in a string`);
    }
  }

  private number(): void {
    const start = this.pos;
    JSON_NUMBER.lastIndex = start;
    const match = JSON_NUMBER.exec(this.text)?.[0] ?? "";
    const word = /^[^\s,:[\]{}"]*/.exec(this.text.slice(start, start + 64))?.[0] ?? "";
    if (match === "" || word !== match) this.fail(start, invalidNumberMessage(word));
    this.pos += match.length;
  }

  /** What is at the current position ("found X"), and a hint to end the message with. */
  private found(): { what: string; hint: string } {
    if (this.pos >= this.text.length) return { what: "the end of the file", hint: "" };
    const word = /^[A-Za-z_$][A-Za-z0-9_$.-]*/.exec(this.text.slice(this.pos, this.pos + 64))?.[0];
    if (word) return { what: word, hint: " (text must be in double quotes)" };
    const char = String.fromCodePoint(this.text.codePointAt(this.pos) ?? 0);
    if (char === "/")
      return { what: '"/"', hint: " (comments are not allowed in JSON; a .yaml file may have them)" };
    if (char === "'") return { what: `"'"`, hint: " (JSON strings use double quotes)" };
    if (char === '"') return { what: "a string", hint: "" };
    return { what: JSON.stringify(char), hint: "" };
  }
}

function invalidNumberMessage(word: string): string {
  if (/^-?0\d/.test(word)) return `${word} is not a valid JSON number: numbers must not have leading zeros`;
  if (/^\d+\.\d+\.\d/.test(word))
    return `${word} is not a valid JSON number: write versions as strings, e.g. "${word}"`;
  return `${word} is not a valid JSON number`;
}

function controlCharacterMessage(char: string): string {
  const code = `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  if (char === "\n" || char === "\r") return `line break (${code}) inside a string: write it as \\n`;
  if (char === "\t") return `tab (${code}) inside a string: write it as \\t`;
  return `control character ${code} inside a string: escape it as \\u${code.slice(2)}`;
}
