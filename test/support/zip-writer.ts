/**
 * A tiny zip writer with full control over every header field, for hostile artifacts that a normal
 * zip library refuses to produce: unsafe names, duplicate entries, headers that lie about sizes or
 * CRCs, encryption flags, symlink entries, unknown compression methods, deflate bombs.
 * Entries are written as given (stored, or raw deflate when `method` is 8 and `data` is already
 * compressed). No zip64, no data descriptors.
 */
import { crc32, deflateRawSync, constants as zlibConstants } from "node:zlib";

export interface RawZipEntry {
  name: string;
  /** The bytes stored in the zip (already compressed when method is 8). */
  data: Uint8Array;
  /** 0 stored (default), 8 deflate, anything else is written as given. */
  method?: number;
  /** The uncompressed size the headers declare (default: data.length, for stored entries). */
  uncompressedSize?: number;
  /** The CRC-32 the headers declare (default: CRC of data, right for stored entries only). */
  crc32?: number;
  /** General purpose bit flags (bit 0: encrypted). */
  flags?: number;
  /** Central directory external attributes (e.g. a unix symlink: 0o120777 << 16). */
  externalAttributes?: number;
}

export { crc32 };

/** DOS date 1980-01-01 00:00 (fixed, so the bytes never vary). */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export function rawZip(entries: readonly RawZipEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const method = entry.method ?? 0;
    const crc = entry.crc32 ?? crc32(entry.data);
    const size = entry.uncompressedSize ?? entry.data.length;
    // Bit 11: the name is UTF-8.
    const flags = (entry.flags ?? 0) | 0x0800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(size >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix, zip 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(size >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((entry.externalAttributes ?? 0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, Buffer.from(entry.data));
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

/** A correct deflate entry for `text`. */
export function deflatedEntry(name: string, content: string | Uint8Array): RawZipEntry {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  return {
    name,
    data: deflateRawSync(bytes),
    method: 8,
    uncompressedSize: bytes.length,
    crc32: crc32(bytes),
  };
}

/**
 * A raw deflate stream that inflates to `mebibytes` MiB of zeros while staying ~1 KiB per MiB:
 * one sync-flushed block of 1 MiB zeros repeated, then an empty final block. Nothing that size is
 * ever allocated here.
 */
export function deflateBomb(mebibytes: number): Uint8Array {
  const block = deflateRawSync(Buffer.alloc(1024 * 1024), {
    level: 9,
    finishFlush: zlibConstants.Z_SYNC_FLUSH,
  });
  const final = Buffer.from([0x03, 0x00]); // an empty final fixed-Huffman block
  return new Uint8Array(Buffer.concat([...Array.from({ length: mebibytes }, () => block), final]));
}
