/**
 * A small PKI made at test time with the `openssl` command, in a temporary directory: a CA
 * (RSA), server certificates (RSA and ECDSA P-256) for localhost, client certificates (valid,
 * expired, self-signed), the server key and certificate as PEM, PFX (modern and legacy
 * encryption) and an encrypted key. `issue`, `revoke`, `crl` and `ocspRespond` let revocation
 * tests make certificates that name their own CRL/OCSP URLs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PFX_PASSWORD = 'pfx secret ü';
export const KEY_PASSWORD = 'key secret';

export interface Pki {
  readonly dir: string;
  /** Path of a file in the PKI directory. */
  path(name: string): string;
  /** Contents of a file in the PKI directory. */
  read(name: string): Buffer;
  readText(name: string): string;
  /**
   * Issues `<name>.crt` for a new key `<name>.key` signed by the CA. `ext`: extension lines for
   * the certificate; `startdate`/`enddate`: YYYYMMDDHHMMSSZ.
   */
  issue(name: string, options: { subject: string; ext: string[]; key?: 'rsa' | 'ec'; startdate?: string; enddate?: string }): void;
  revoke(name: string): void;
  /** A fresh CRL (DER) listing the revoked certificates. */
  crl(): Buffer;
  /** The OCSP response (DER) for a request (DER), signed by the CA. */
  ocspRespond(request: Buffer): Buffer;
  /** Runs openssl in the PKI directory; returns stdout. */
  openssl(args: string[], input?: Buffer | string): string;
  remove(): void;
}

/** Makes the PKI (about a second: two RSA keys, the rest ECDSA). Throws when `openssl` is missing. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'wsworks-pki-'));
  const openssl = (args: string[], input?: Buffer | string): string => {
    try {
      return execFileSync('openssl', args, { cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 }).toString();
    } catch (err) {
      const e = err as { code?: string; stderr?: Buffer; message: string };
      if (e.code === 'ENOENT') throw new Error('the TLS tests need the `openssl` command (apt-get install openssl)');
      throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
    }
  };
  mkdirSync(join(dir, 'newcerts'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir/newcerts',
      'serial = $dir/serial',
      'crlnumber = $dir/crlnumber',
      'certificate = $dir/ca.crt',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'default_days = 30',
      'default_crl_days = 7',
      'policy = policy_any',
      'unique_subject = no',
      'email_in_dn = no',
      'preserve = yes',
      '[ policy_any ]',
      'commonName = supplied',
      'organizationName = optional',
      'countryName = optional',
      'organizationalUnitName = optional',
      '',
    ].join('\n'),
  );
  const newKey = (file: string, type: 'rsa' | 'ec'): void => {
    if (type === 'rsa') openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file]);
    else openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  };
  // The CA.
  newKey('ca.key', 'rsa');
  writeFileSync(join(dir, 'ca-ext.cnf'), 'basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n');
  openssl(['req', '-new', '-x509', '-key', 'ca.key', '-out', 'ca.crt', '-days', '60', '-subj', '/C=US/O=wsworks tests/CN=wsworks test CA', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);

  const issue: Pki['issue'] = (name, options) => {
    newKey(`${name}.key`, options.key ?? 'ec');
    openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', options.subject]);
    writeFileSync(join(dir, `${name}.ext`), `${options.ext.join('\n')}\n`);
    const dates = options.startdate ? ['-startdate', options.startdate, '-enddate', options.enddate!] : [];
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.crt`, '-extfile', `${name}.ext`, '-notext', '-preserveDN', ...dates]);
  };

  const serverExt = [
    'basicConstraints = CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth',
    'subjectAltName = DNS:localhost, IP:127.0.0.1',
  ];
  const clientExt = ['basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = clientAuth'];
  issue('server-rsa', { subject: '/C=US/O=wsworks tests/CN=localhost', ext: serverExt, key: 'rsa' });
  issue('server-ec', { subject: '/O=wsworks tests/OU=ecdsa/CN=localhost', ext: serverExt });
  issue('other', { subject: '/O=wsworks tests/CN=other.test', ext: ['basicConstraints = CA:FALSE', 'subjectAltName = DNS:other.test'] });
  issue('client', { subject: '/O=wsworks tests/CN=client one', ext: clientExt });
  issue('client-expired', { subject: '/O=wsworks tests/CN=client expired', ext: clientExt, startdate: '20200101000000Z', enddate: '20200201000000Z' });
  // A self-signed client certificate nobody vouches for.
  newKey('client-self.key', 'ec');
  openssl(['req', '-new', '-x509', '-key', 'client-self.key', '-out', 'client-self.crt', '-days', '30', '-subj', '/CN=client self-signed']);

  const cat = (out: string, files: string[]): void => writeFileSync(join(dir, out), Buffer.concat(files.map((f) => readFileSync(join(dir, f)))));
  cat('server-rsa.pem', ['server-rsa.key', 'server-rsa.crt', 'ca.crt']);
  cat('server-ec.pem', ['server-ec.key', 'server-ec.crt']);
  cat('chain.pem', ['server-rsa.crt', 'ca.crt']);
  openssl(['pkcs12', '-export', '-in', 'server-rsa.crt', '-inkey', 'server-rsa.key', '-certfile', 'ca.crt', '-name', 'wsworks server', '-out', 'server-rsa.pfx', '-passout', `pass:${PFX_PASSWORD}`]);
  openssl(['pkcs12', '-export', '-legacy', '-in', 'server-ec.crt', '-inkey', 'server-ec.key', '-out', 'server-ec-legacy.pfx', '-passout', `pass:${PFX_PASSWORD}`]);
  openssl(['pkcs8', '-topk8', '-in', 'server-rsa.key', '-out', 'server-rsa-enc.key', '-passout', `pass:${KEY_PASSWORD}`, '-v2', 'aes-256-cbc']);
  cat('server-rsa-enc.pem', ['server-rsa-enc.key', 'server-rsa.crt']);
  openssl(['x509', '-in', 'server-rsa.crt', '-outform', 'DER', '-out', 'server-rsa.der']);

  return {
    dir,
    path: (name) => join(dir, name),
    read: (name) => readFileSync(join(dir, name)),
    readText: (name) => readFileSync(join(dir, name), 'utf8'),
    issue,
    revoke(name) {
      openssl(['ca', '-config', 'ca.cnf', '-revoke', `${name}.crt`]);
    },
    crl() {
      openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem']);
      openssl(['crl', '-in', 'crl.pem', '-outform', 'DER', '-out', 'crl.der']);
      return readFileSync(join(dir, 'crl.der'));
    },
    ocspRespond(request) {
      writeFileSync(join(dir, 'ocsp-req.der'), request);
      openssl(['ocsp', '-index', 'index.txt', '-CA', 'ca.crt', '-rsigner', 'ca.crt', '-rkey', 'ca.key', '-reqin', 'ocsp-req.der', '-respout', 'ocsp-resp.der', '-ndays', '1']);
      return readFileSync(join(dir, 'ocsp-resp.der'));
    },
    openssl,
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
