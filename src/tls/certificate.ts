/**
 * The reference's Certificate type. This release declares its fields and store types so a
 * certificate can be described and assigned to `sslCert`; loading stores and serving wss://
 * arrive with TLS support (until then `useSSL = true` makes startListening fail with 273).
 */

/** Certificate store types of the reference (StoreType / CertStoreType). */
export const CertStoreType = Object.freeze({
  User: 0,
  Machine: 1,
  PFXFile: 2,
  PFXBlob: 3,
  JKSFile: 4,
  JKSBlob: 5,
  PEMKeyFile: 6,
  PEMKeyBlob: 7,
  PublicKeyFile: 8,
  PublicKeyBlob: 9,
  SSHPublicKeyBlob: 10,
  P7BFile: 11,
  P7BBlob: 12,
  SSHPublicKeyFile: 13,
  PPKFile: 14,
  PPKBlob: 15,
  XMLFile: 16,
  XMLBlob: 17,
  JWKFile: 18,
  JWKBlob: 19,
  BCFKSFile: 21,
  BCFKSBlob: 22,
  PKCS11: 23,
  Auto: 99,
} as const);

/** A digital certificate, as the reference describes it (fields are filled once loaded). */
export class Certificate {
  effectiveDate = '';
  encoded = '';
  encodedB: Buffer = Buffer.alloc(0);
  expirationDate = '';
  extendedKeyUsage = '';
  fingerprint = '';
  fingerprintSHA1 = '';
  fingerprintSHA256 = '';
  issuer = '';
  keyPassword = '';
  privateKey = '';
  privateKeyAvailable = false;
  privateKeyContainer = '';
  publicKey = '';
  publicKeyAlgorithm = '';
  publicKeyLength = 0;
  serialNumber = '';
  signatureAlgorithm = '';
  store = 'MY';
  storeB: Buffer = Buffer.alloc(0);
  storePassword = '';
  storeType: number = CertStoreType.User;
  subject = '';
  subjectAltNames = '';
  thumbprintMD5 = '';
  thumbprintSHA1 = '';
  thumbprintSHA256 = '';
  usage = '';
  usageFlags = 0;
  version = '';

  /**
   * `new Certificate()`, or `new Certificate(storeType, store, storePassword, subject)` to
   * describe a certificate in a store (a file name or the store's bytes).
   */
  constructor(storeType?: number, store?: string | Buffer, storePassword?: string, subject?: string) {
    if (storeType !== undefined) this.storeType = storeType;
    if (typeof store === 'string') this.store = store;
    else if (store) this.storeB = store;
    if (storePassword !== undefined) {
      this.storePassword = storePassword;
      this.keyPassword = storePassword;
    }
    if (subject !== undefined) this.subject = subject;
  }
}
