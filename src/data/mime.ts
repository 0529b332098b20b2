/**
 * Just enough MIME to turn a raw 2002-era e-mail into readable text: header unfolding, RFC 2047
 * encoded words in the Subject, multipart bodies, quoted-printable and base64 transfer encodings,
 * charsets Node's TextDecoder knows (ICU build; unknown ones fall back to latin1), and HTML → text.
 *
 * Contract: never throws on malformed input — a part it cannot decode is kept as latin1 text or
 * dropped (non-text attachments), so every one of the 6,046 corpus messages yields some text.
 */

export interface ParsedMessage {
  subject: string;
  /** decoded text of the text/plain parts, or of the text/html parts with tags stripped when no plain part exists */
  body: string;
}

interface Part {
  headers: Map<string, string>;
  raw: string;
}

/** Splits "headers\n\nbody"; header names lower-cased, continuation lines unfolded (RFC 5322 §2.2.3). */
function splitPart(raw: string): Part {
  const text = raw.replace(/\r\n/g, '\n');
  const blank = text.search(/\n\n/);
  const head = blank < 0 ? text : text.slice(0, blank);
  const body = blank < 0 ? '' : text.slice(blank + 2);
  const headers = new Map<string, string>();
  let lastName = '';
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && lastName) {
      headers.set(lastName, `${headers.get(lastName)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastName = line.slice(0, colon).trim().toLowerCase();
    // the first occurrence wins (mbox "From " lines and repeated Received: headers are irrelevant here)
    if (!headers.has(lastName)) headers.set(lastName, line.slice(colon + 1).trim());
  }
  return { headers, raw: body };
}

function headerParam(value: string, name: string): string | undefined {
  const match = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

function bytesToText(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? 'latin1').toLowerCase().replace(/^"|"$/g, '');
  try {
    return new TextDecoder(label === 'us-ascii' ? 'latin1' : label).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** Quoted-printable (RFC 2045 §6.7): "=XX" hex escapes, "=" at end of line is a soft break. */
export function decodeQuotedPrintable(text: string): Uint8Array {
  const unfolded = text.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    const c = unfolded.charCodeAt(i);
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(unfolded.slice(i + 1, i + 3))) {
      out.push(parseInt(unfolded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(c & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function decodeBody(part: Part): Uint8Array {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '').toLowerCase();
  if (encoding.includes('base64')) return Buffer.from(part.raw.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding.includes('quoted-printable')) return decodeQuotedPrintable(part.raw);
  return latin1Bytes(part.raw);
}

/** RFC 2047 encoded words, e.g. "=?iso-8859-1?Q?caf=E9?=" → "café". */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between adjacent encoded words is not part of the text
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, charset: string, kind: string, data: string) => {
      const bytes = kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return bytesToText(bytes, charset);
    });
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®' };

/** HTML → text: drops script/style/comments and tags (block tags become line breaks), decodes entities. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<\/?(br|p|div|tr|li|h[1-6]|table)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? all;
    });
}

interface TextPiece {
  html: boolean;
  text: string;
}

/** Collects decoded text pieces of a part, recursing into multipart containers (depth-limited). */
function textPieces(part: Part, depth: number): TextPiece[] {
  const contentType = (part.headers.get('content-type') ?? 'text/plain').toLowerCase();
  if (contentType.startsWith('multipart/') && depth < 8) {
    const boundary = headerParam(part.headers.get('content-type') ?? '', 'boundary');
    if (!boundary) return [{ html: false, text: part.raw }];
    const delimiter = `--${boundary}`;
    const pieces: TextPiece[] = [];
    const sections = part.raw.split(delimiter).slice(1); // the preamble before the first delimiter is not content
    for (const section of sections) {
      if (section.startsWith('--')) break; // closing delimiter
      pieces.push(...textPieces(splitPart(section.replace(/^[ \t]*\n/, '')), depth + 1));
    }
    return pieces;
  }
  if (contentType.startsWith('message/rfc822') && depth < 8) return textPieces(splitPart(part.raw), depth + 1);
  if (!contentType.startsWith('text/')) return []; // images, application/* attachments
  const charset = headerParam(part.headers.get('content-type') ?? '', 'charset');
  return [{ html: contentType.startsWith('text/html'), text: bytesToText(decodeBody(part), charset) }];
}

export function parseMessage(raw: string): ParsedMessage {
  const top = splitPart(raw);
  const subject = decodeEncodedWords(top.headers.get('subject') ?? '');
  const pieces = textPieces(top, 0);
  const plain = pieces.filter((p) => !p.html);
  const chosen = plain.length > 0 ? plain : pieces;
  const body = chosen.map((p) => (p.html ? htmlToText(p.text) : looksLikeHtml(p.text) ? htmlToText(p.text) : p.text)).join('\n');
  return { subject, body };
}

/** Some spam sends HTML with a text/plain (or missing) content type. */
function looksLikeHtml(text: string): boolean {
  return /<(html|body|table|font|a\s+href|p|br)\b/i.test(text.slice(0, 4000));
}
