/**
 * Why a TLS connection failed, in words: OpenSSL/Node error codes of handshake failures, the
 * certificate verification codes, and the bytes sent to clients that cannot go on (a TLS alert,
 * or a plaintext HTTP answer to a plaintext request).
 */

/** Node error codes of OpenSSL failures, in words. */
const FAILURE_HINTS: Record<string, string> = {
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'the client offers no protocol version the server enables (SSLEnabledProtocols)',
  ERR_SSL_NO_SHARED_CIPHER: 'the client offers no cipher suite the server enables (SSLEnabledCipherSuites, SSLCipherStrength)',
  ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM: 'no signature algorithm in common (TLS12/TLS13SignatureAlgorithms)',
  ERR_SSL_NO_SUITABLE_KEY_SHARE: 'no key exchange group in common (TLS12/TLS13SupportedGroups)',
  ERR_SSL_NO_SHARED_GROUP: 'no key exchange group in common (TLS12/TLS13SupportedGroups)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the client does not trust the server's certificate (unknown CA)",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "the client rejected the server's certificate",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: "the client rejected the server's certificate",
  ERR_SSL_WRONG_VERSION_NUMBER: 'the client sent data that is not TLS',
  ERR_SSL_HTTP_REQUEST: 'a plaintext HTTP request arrived on the TLS port',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'the TLS handshake did not finish in time (DefaultConnectionTimeout)',
  ERR_SSL_RENEGOTIATION_DISABLED: 'the client asked for a renegotiation (SSLEnableRenegotiation is False)',
  ERR_TLS_SESSION_ATTACK: 'the client renegotiated too often',
  ECONNRESET: 'the client closed the connection during the TLS handshake',
};

/** OpenSSL's certificate verification codes (tlsSocket.authorizationError), in words. */
export const VERIFY_TEXT: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get the issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer is not among the trusted CAs (SSLCACerts)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (issuer not trusted, SSLCACerts)',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'certificate not allowed for client authentication',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
};

export function errorText(err: NodeJS.ErrnoException & { reason?: string }): string {
  const hint = err.code ? FAILURE_HINTS[err.code] : undefined;
  const detail = err.reason ?? err.message.split(':').slice(-3, -2)[0] ?? err.message;
  if (hint) return detail && !hint.includes(detail) && err.code !== 'ECONNRESET' ? `${hint} (${detail})` : hint;
  return detail || err.message;
}

/** A fatal decode_error alert (TLS 1.0 record version, as servers send before a version is agreed). */
export const DECODE_ERROR_ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x32]);
/** A fatal handshake_failure alert. */
export const HANDSHAKE_FAILURE_ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]);

/** The plaintext answer to an HTTP request on the TLS port. */
export function plaintextRefusal(): Buffer {
  const body = 'This port speaks TLS: connect with wss:// (https://).\n';
  return Buffer.from(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    'latin1',
  );
}
