import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { pemProblem } from '../../../src/config/pem.js';

const block = (label: string, body = 'MIIBfixture'): string =>
  `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

describe('pemProblem', () => {
  it('accepts a certificate bundle and the private key labels Node.js reads', () => {
    assert.equal(pemProblem(block('CERTIFICATE') + block('CERTIFICATE'), 'certificate'), null);
    for (const label of ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']) {
      assert.equal(pemProblem(block(label), 'private-key'), null, label);
    }
  });

  it('refuses a file with no PEM block, with the conversion command', () => {
    assert.match(pemProblem('0\x82binary', 'certificate') ?? '', /openssl x509 -inform der/);
    assert.match(pemProblem('', 'private-key') ?? '', /openssl pkey -inform der/);
  });

  it('tells a truncated block, a swap, and an encrypted key', () => {
    assert.match(
      pemProblem('-----BEGIN CERTIFICATE-----\nMIIB\n', 'certificate') ?? '',
      /no "-----END CERTIFICATE-----" line/,
    );
    assert.match(pemProblem(block('PRIVATE KEY'), 'certificate') ?? '', /swapped/);
    assert.match(pemProblem(block('CERTIFICATE'), 'private-key') ?? '', /swapped/);
    assert.match(pemProblem(block('ENCRYPTED PRIVATE KEY'), 'private-key') ?? '', /passphrase/);
    const legacy = `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----\n`;
    assert.match(pemProblem(legacy, 'private-key') ?? '', /encrypted/);
  });

  it('names the labels found when none is of the kind asked for', () => {
    assert.match(
      pemProblem(block('CERTIFICATE REQUEST'), 'certificate') ?? '',
      /holds PEM "CERTIFICATE REQUEST" but no/,
    );
  });
});
