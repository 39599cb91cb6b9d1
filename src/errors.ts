/**
 * WSServerError and the error codes of the reference (IPWorks WSServer "Trappable Errors").
 * Operating-system errors are mapped onto the reference's 10xxx (WinSock-style) codes.
 */

/** The error codes of the reference, by number, with the reference's text. */
export const ERROR_MESSAGES: Readonly<Record<number, string>> = Object.freeze({
  4202: 'Error sending data to the connected client.',
  100: 'You cannot change the RemotePort at this time. A connection is in progress.',
  101: 'You cannot change the RemoteHost at this time. A connection is in progress.',
  102: 'The RemoteHost address is invalid (0.0.0.0).',
  104: 'TCPServer is already listening.',
  106: 'Cannot change LocalPort when TCPServer is listening.',
  107: 'Cannot change LocalHost when TCPServer is listening.',
  108: 'Cannot change MaxConnections when TCPServer is listening.',
  112: 'You cannot change MaxLineLength at this time. A connection is in progress.',
  116: 'RemotePort cannot be zero. Please specify a valid service port number.',
  126: 'Invalid ConnectionId.',
  135: 'Operation would block.',
  270: 'Cannot load specified security library.',
  271: 'Cannot open certificate store.',
  272: 'Cannot find specified certificate.',
  273: 'Cannot acquire security credentials.',
  274: 'Cannot find certificate chain.',
  275: 'Cannot verify certificate chain.',
  276: 'Error during handshake.',
  280: 'Error verifying certificate.',
  281: 'Could not find client certificate.',
  282: 'Could not find server certificate.',
  283: 'Error encrypting data.',
  284: 'Error decrypting data.',
  10004: '[10004] Interrupted system call.',
  10009: '[10009] Bad file number.',
  10013: '[10013] Access denied.',
  10014: '[10014] Bad address.',
  10022: '[10022] Invalid argument.',
  10024: '[10024] Too many open files.',
  10035: '[10035] Operation would block.',
  10036: '[10036] Operation now in progress.',
  10037: '[10037] Operation already in progress.',
  10038: '[10038] Socket operation on non-socket.',
  10039: '[10039] Destination address required.',
  10040: '[10040] Message too long.',
  10041: '[10041] Protocol wrong type for socket.',
  10042: '[10042] Bad protocol option.',
  10043: '[10043] Protocol not supported.',
  10044: '[10044] Socket type not supported.',
  10045: '[10045] Operation not supported on socket.',
  10046: '[10046] Protocol family not supported.',
  10047: '[10047] Address family not supported by protocol family.',
  10048: '[10048] Address already in use.',
  10049: "[10049] Can't assign requested address.",
  10050: '[10050] Network is down.',
  10051: '[10051] Network is unreachable.',
  10052: '[10052] Net dropped connection or reset.',
  10053: '[10053] Software caused connection abort.',
  10054: '[10054] Connection reset by peer.',
  10055: '[10055] No buffer space available.',
  10056: '[10056] Socket is already connected.',
  10057: '[10057] Socket is not connected.',
  10058: "[10058] Can't send after socket shutdown.",
  10059: "[10059] Too many references, can't splice.",
  10060: '[10060] Connection timed out.',
  10061: '[10061] Connection refused.',
  10062: '[10062] Too many levels of symbolic links.',
  10063: '[10063] File name too long.',
  10064: '[10064] Host is down.',
  10065: '[10065] No route to host.',
  10066: '[10066] Directory not empty',
  10067: '[10067] Too many processes.',
  10068: '[10068] Too many users.',
  10069: '[10069] Disc Quota Exceeded.',
  10070: '[10070] Stale NFS file handle.',
  10071: '[10071] Too many levels of remote in path.',
  10091: '[10091] Network subsystem is unavailable.',
  10092: '[10092] WINSOCK DLL Version out of range.',
  10093: '[10093] Winsock not loaded yet.',
  11001: '[11001] Host not found.',
  11002: "[11002] Non-authoritative 'Host not found' (try again or check DNS setup).",
  11003: '[11003] Non-recoverable errors: FORMERR, REFUSED, NOTIMP.',
  11004: '[11004] Valid name, no data record (check DNS setup).',
});

/** Named constants for the codes wsworks raises itself. */
export const ErrorCode = Object.freeze({
  SendFailed: 4202,
  AlreadyListening: 104,
  LocalPortLocked: 106,
  LocalHostLocked: 107,
  MaxConnectionsLocked: 108,
  MaxLineLengthLocked: 112,
  InvalidConnectionId: 126,
  OperationWouldBlock: 135,
  SecurityLibrary: 270,
  CannotOpenStore: 271,
  CertificateNotFound: 272,
  CannotAcquireCredentials: 273,
  HandshakeFailed: 276,
  CertificateVerifyFailed: 280,
  ClientCertificateNotFound: 281,
  ServerCertificateNotFound: 282,
  Interrupted: 10004,
  AccessDenied: 10013,
  InvalidArgument: 10022,
  TooManyOpenFiles: 10024,
  WouldBlock: 10035,
  MessageTooLong: 10040,
  AddressInUse: 10048,
  AddressNotAvailable: 10049,
  ConnectionAborted: 10053,
  ConnectionReset: 10054,
  NotConnected: 10057,
  SendAfterShutdown: 10058,
  TimedOut: 10060,
  HostNotFound: 11001,
} as const);

/** An error raised by wsworks, carrying the reference's numeric error code. */
export class WSServerError extends Error {
  /** The reference's error code (e.g. 10035 "Operation would block"). */
  readonly code: number;

  /**
   * @param code - one of the reference's error codes
   * @param detail - what went wrong and what to do about it; the reference's text is used when omitted
   * @param options - the underlying cause, if any
   */
  constructor(code: number, detail?: string, options?: { cause?: unknown }) {
    const base = ERROR_MESSAGES[code];
    const message = detail ? (base ? `${base} ${detail}` : detail) : (base ?? `Error ${code}.`);
    super(message, options);
    this.name = 'WSServerError';
    this.code = code;
  }
}

/** POSIX/libuv error names mapped to the reference's WinSock-style codes. */
const OS_ERROR_CODES: Readonly<Record<string, number>> = Object.freeze({
  EINTR: 10004,
  EBADF: 10009,
  EACCES: 10013,
  EPERM: 10013,
  EFAULT: 10014,
  EINVAL: 10022,
  EMFILE: 10024,
  ENFILE: 10024,
  EAGAIN: 10035,
  EWOULDBLOCK: 10035,
  EINPROGRESS: 10036,
  EALREADY: 10037,
  ENOTSOCK: 10038,
  EDESTADDRREQ: 10039,
  EMSGSIZE: 10040,
  EPROTOTYPE: 10041,
  ENOPROTOOPT: 10042,
  EPROTONOSUPPORT: 10043,
  ESOCKTNOSUPPORT: 10044,
  EOPNOTSUPP: 10045,
  ENOTSUP: 10045,
  EPFNOSUPPORT: 10046,
  EAFNOSUPPORT: 10047,
  EADDRINUSE: 10048,
  EADDRNOTAVAIL: 10049,
  ENETDOWN: 10050,
  ENETUNREACH: 10051,
  ENETRESET: 10052,
  ECONNABORTED: 10053,
  ECONNRESET: 10054,
  EPIPE: 10058,
  ENOBUFS: 10055,
  EISCONN: 10056,
  ENOTCONN: 10057,
  ESHUTDOWN: 10058,
  ETIMEDOUT: 10060,
  ECONNREFUSED: 10061,
  ELOOP: 10062,
  ENAMETOOLONG: 10063,
  EHOSTDOWN: 10064,
  EHOSTUNREACH: 10065,
  ENOTEMPTY: 10066,
  EPROCLIM: 10067,
  EUSERS: 10068,
  EDQUOT: 10069,
  ESTALE: 10070,
  EREMOTE: 10071,
  ENOTFOUND: 11001,
  EAI_NONAME: 11001,
  EAI_AGAIN: 11002,
  EAI_FAIL: 11003,
});

/** The reference's code for an operating-system error (`err.code` such as `EADDRINUSE`), or undefined. */
export function osErrorCode(err: unknown): number | undefined {
  const name = (err as NodeJS.ErrnoException | null)?.code;
  return typeof name === 'string' ? OS_ERROR_CODES[name] : undefined;
}

/** Wraps any error as a WSServerError: OS errors get their 10xxx code, others `fallback`. */
export function toWSServerError(err: unknown, fallback: number = ErrorCode.SendFailed): WSServerError {
  if (err instanceof WSServerError) return err;
  const code = osErrorCode(err) ?? fallback;
  const detail = err instanceof Error ? `(${err.message})` : undefined;
  return new WSServerError(code, detail, { cause: err });
}
