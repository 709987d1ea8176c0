/**
 * What a CA, certificate or key file must look like before it reaches TLS: a PEM block of the
 * expected kind. Node.js reports a DER file, swapped certificate and key, or a truncated copy only
 * when it connects, with an OpenSSL message naming neither the setting nor the file; checked here,
 * `config validate` names both.
 */

/** Certificates (a CA bundle, a client certificate) or a private key. */
export type PemKind = 'certificate' | 'private-key';

/** PEM labels Node.js accepts for each kind (RFC 7468; the legacy OpenSSL key labels too). */
const LABELS: Readonly<Record<PemKind, readonly string[]>> = {
  certificate: ['CERTIFICATE'],
  'private-key': ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY'],
};

/** An encrypted key needs a passphrase, which the forwarder has no setting for. */
const ENCRYPTED_KEY_LABEL = 'ENCRYPTED PRIVATE KEY';
const LEGACY_ENCRYPTION_HEADER = /^Proc-Type:\s*4,\s*ENCRYPTED\s*$/m;

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----\s*$/gm;

const CONVERT_HINT: Readonly<Record<PemKind, string>> = {
  certificate: 'a DER file? convert it: openssl x509 -inform der -in FILE -out FILE.pem',
  'private-key': 'a DER file? convert it: openssl pkey -inform der -in FILE -out FILE.pem',
};

function hasEnd(text: string, label: string, from: number): boolean {
  return new RegExp(`^-----END ${label}-----\\s*$`, 'm').test(text.slice(from));
}

/**
 * Why `text` is not a usable PEM file of `kind`, or `null` when it is. Checks the armour only
 * (BEGIN and matching END lines); the base64 inside is left to TLS.
 */
export function pemProblem(text: string, kind: PemKind): string | null {
  const wanted = LABELS[kind];
  const found: Array<{ label: string; end: number }> = [];
  for (const match of text.matchAll(BEGIN)) {
    found.push({ label: match[1] ?? '', end: match.index + match[0].length });
  }
  const expected = `"-----BEGIN ${wanted[0] ?? ''}-----"`;
  if (found.length === 0) return `is not PEM: no ${expected} line (${CONVERT_HINT[kind]})`;
  if (kind === 'private-key' && found.some((block) => block.label === ENCRYPTED_KEY_LABEL)) {
    return 'holds an encrypted private key ("ENCRYPTED PRIVATE KEY"); there is no passphrase setting: store the key unencrypted in its Secret (openssl pkey -in FILE -out FILE.key)';
  }
  const block = found.find((candidate) => wanted.includes(candidate.label));
  if (block === undefined) {
    const labels = [...new Set(found.map((candidate) => `"${candidate.label}"`))].join(', ');
    const other = LABELS[kind === 'certificate' ? 'private-key' : 'certificate'];
    const swapped = found.some((candidate) => other.includes(candidate.label))
      ? ' (certificate and key files swapped?)'
      : '';
    return `holds PEM ${labels} but no ${expected} block${swapped}`;
  }
  if (!hasEnd(text, block.label, block.end)) {
    return `has "-----BEGIN ${block.label}-----" but no "-----END ${block.label}-----" line (a truncated copy?)`;
  }
  if (kind === 'private-key' && LEGACY_ENCRYPTION_HEADER.test(text)) {
    return 'holds an encrypted private key (Proc-Type: 4,ENCRYPTED); there is no passphrase setting: store the key unencrypted in its Secret (openssl pkey -in FILE -out FILE.key)';
  }
  return null;
}
