/** Text helpers shared by every stage. Pure. */

export type Decoded = { ok: true; text: string } | { ok: false; message: string };

/** Strict UTF-8 (invalid bytes are an error, never U+FFFD); `file` names the file in the message. */
export function decodeUtf8(bytes: Uint8Array, file: string): Decoded {
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, message: `${file}: the file is not valid UTF-8` };
  }
}
