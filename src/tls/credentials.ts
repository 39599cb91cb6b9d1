/**
 * A Certificate made ready for OpenSSL: its private key and chain as PEM, loading it from its
 * store first when it was built field by field. 282 when it holds no certificate, 273 when it
 * has no private key.
 */
import { ErrorCode, WSServerError } from '../errors.js';
import { certificateMaterial, type Certificate } from './certificate.js';
import { keyAlgorithmName, keyLength } from './x509-info.js';

/** A certificate ready for OpenSSL. */
export interface Credentials {
  readonly key: string;
  readonly chain: string;
  readonly subject: string;
  readonly keyBits: number;
  readonly summary: string;
}

/** The key and chain of a Certificate, or 273 when it has no private key. */
export function credentialsOf(cert: Certificate, what: string): Credentials {
  let material = certificateMaterial(cert);
  if (!material && (cert.storeB.length > 0 || (cert.store && cert.store !== 'MY'))) {
    // Built field by field: load it from its store now.
    cert.loadFromStore();
    material = certificateMaterial(cert);
  }
  if (!material || !material.leaf) {
    throw new WSServerError(ErrorCode.ServerCertificateNotFound, `${what} holds no certificate: load one with new Certificate(storeType, store, password, subject).`);
  }
  if (!material.keyPem || !material.key) {
    throw new WSServerError(
      ErrorCode.CannotAcquireCredentials,
      `${what} (${cert.subject || 'no subject'}) has no private key: use a PFX file or a PEM file holding the key and the certificate.`,
    );
  }
  const pub = material.leaf.publicKey;
  return {
    key: material.keyPem,
    chain: material.chainPem.join(''),
    subject: cert.subject,
    keyBits: keyLength(pub),
    summary: `${cert.subject} (${keyAlgorithmName(pub)} ${keyLength(pub)} bits, expires ${cert.expirationDate})`,
  };
}
