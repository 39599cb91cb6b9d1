/**
 * TLS code points by name: signature schemes, named groups and protocol versions, as a
 * ClientHello carries them, and the translation of the reference's setting values
 * (`sha256-rsa`, `rsa_pss_sha256`, `ecdhe_x25519`, ...) into OpenSSL's lists.
 */

const SIGNATURE_SCHEMES: Record<number, string> = {
  0x0201: 'rsa_pkcs1_sha1',
  0x0202: 'dsa_sha1',
  0x0203: 'ecdsa_sha1',
  0x0301: 'rsa_pkcs1_sha224',
  0x0302: 'dsa_sha224',
  0x0303: 'ecdsa_sha224',
  0x0401: 'rsa_pkcs1_sha256',
  0x0402: 'dsa_sha256',
  0x0403: 'ecdsa_secp256r1_sha256',
  0x0420: 'rsa_pkcs1_sha256_legacy',
  0x0501: 'rsa_pkcs1_sha384',
  0x0502: 'dsa_sha384',
  0x0503: 'ecdsa_secp384r1_sha384',
  0x0601: 'rsa_pkcs1_sha512',
  0x0602: 'dsa_sha512',
  0x0603: 'ecdsa_secp521r1_sha512',
  0x0804: 'rsa_pss_rsae_sha256',
  0x0805: 'rsa_pss_rsae_sha384',
  0x0806: 'rsa_pss_rsae_sha512',
  0x0807: 'ed25519',
  0x0808: 'ed448',
  0x0809: 'rsa_pss_pss_sha256',
  0x080a: 'rsa_pss_pss_sha384',
  0x080b: 'rsa_pss_pss_sha512',
  0x081a: 'ecdsa_brainpoolP256r1tls13_sha256',
  0x081b: 'ecdsa_brainpoolP384r1tls13_sha384',
  0x081c: 'ecdsa_brainpoolP512r1tls13_sha512',
  0x0904: 'mldsa44',
  0x0905: 'mldsa65',
  0x0906: 'mldsa87',
};

/** Named groups (supported_groups / key_share), with the key-exchange strength wsworks reports. */
const GROUPS: Record<number, { name: string; bits: number; kind: 'ECDHE' | 'DHE' | 'KEM' }> = {
  0x0015: { name: 'secp224r1', bits: 224, kind: 'ECDHE' },
  0x0016: { name: 'secp256k1', bits: 256, kind: 'ECDHE' },
  0x0017: { name: 'secp256r1', bits: 256, kind: 'ECDHE' },
  0x0018: { name: 'secp384r1', bits: 384, kind: 'ECDHE' },
  0x0019: { name: 'secp521r1', bits: 521, kind: 'ECDHE' },
  0x001a: { name: 'brainpoolP256r1', bits: 256, kind: 'ECDHE' },
  0x001b: { name: 'brainpoolP384r1', bits: 384, kind: 'ECDHE' },
  0x001c: { name: 'brainpoolP512r1', bits: 512, kind: 'ECDHE' },
  0x001d: { name: 'x25519', bits: 256, kind: 'ECDHE' },
  0x001e: { name: 'x448', bits: 448, kind: 'ECDHE' },
  0x0100: { name: 'ffdhe2048', bits: 2048, kind: 'DHE' },
  0x0101: { name: 'ffdhe3072', bits: 3072, kind: 'DHE' },
  0x0102: { name: 'ffdhe4096', bits: 4096, kind: 'DHE' },
  0x0103: { name: 'ffdhe6144', bits: 6144, kind: 'DHE' },
  0x0104: { name: 'ffdhe8192', bits: 8192, kind: 'DHE' },
  0x0200: { name: 'MLKEM512', bits: 512, kind: 'KEM' },
  0x0201: { name: 'MLKEM768', bits: 768, kind: 'KEM' },
  0x0202: { name: 'MLKEM1024', bits: 1024, kind: 'KEM' },
  0x11eb: { name: 'SecP256r1MLKEM768', bits: 256, kind: 'KEM' },
  0x11ec: { name: 'X25519MLKEM768', bits: 256, kind: 'KEM' },
  0x11ed: { name: 'SecP384r1MLKEM1024', bits: 384, kind: 'KEM' },
  0x6399: { name: 'X25519Kyber768Draft00', bits: 256, kind: 'KEM' },
};

const VERSIONS: Record<number, string> = { 0x0002: 'SSL2', 0x0300: 'SSL3', 0x0301: 'TLS1', 0x0302: 'TLS1.1', 0x0303: 'TLS1.2', 0x0304: 'TLS1.3' };

function hex(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The IANA name of a signature scheme (legacy TLS 1.2 pairs included), or its hex code. */
export function signatureSchemeName(code: number): string {
  const known = SIGNATURE_SCHEMES[code];
  if (known) return known;
  const hashes = ['none', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
  const sigs = ['anonymous', 'rsa', 'dsa', 'ecdsa'];
  const h = code >> 8;
  const s = code & 0xff;
  if (h >= 1 && h <= 6 && s >= 1 && s <= 3) return `${sigs[s]}_${hashes[h]}`;
  return hex(code);
}

/** A named group by code point. */
export function groupInfo(code: number): { name: string; bits: number; kind: 'ECDHE' | 'DHE' | 'KEM' } | undefined {
  return GROUPS[code];
}

export function groupName(code: number): string {
  return GROUPS[code]?.name ?? hex(code);
}

/** The reference's protocol name (TLS1.2, TLS1.3, ...) of a version code. */
export function versionName(code: number): string {
  return VERSIONS[code] ?? hex(code);
}

/** The reference's protocol name of Node's `getProtocol()` value (TLSv1.2 → TLS1.2). */
export function protocolName(nodeProtocol: string | null): string {
  if (!nodeProtocol) return '';
  return nodeProtocol.replace(/^TLSv/, 'TLS').replace(/^SSLv/, 'SSL');
}

// ---- The reference's setting values → OpenSSL --------------------------------------------

/** Code point of each reference TLS 1.2 signature algorithm (`sha256-rsa`). */
const TLS12_SIGALG_CODES: Record<string, number> = {};
for (const [h, hv] of [['sha1', 2], ['sha224', 3], ['sha256', 4], ['sha384', 5], ['sha512', 6]] as const) {
  for (const [s, sv] of [['rsa', 1], ['dsa', 2], ['ecdsa', 3]] as const) TLS12_SIGALG_CODES[`${h}-${s}`] = (hv << 8) | sv;
}

/** Code points of each reference TLS 1.3 signature algorithm (rsa_pss_sha256 covers both RSA-PSS forms). */
const TLS13_SIGALG_CODES: Record<string, number[]> = {
  ed25519: [0x0807],
  ed448: [0x0808],
  ecdsa_secp256r1_sha256: [0x0403],
  ecdsa_secp384r1_sha384: [0x0503],
  ecdsa_secp521r1_sha512: [0x0603],
  rsa_pkcs1_sha256: [0x0401],
  rsa_pkcs1_sha384: [0x0501],
  rsa_pkcs1_sha512: [0x0601],
  rsa_pss_sha256: [0x0804, 0x0809],
  rsa_pss_sha384: [0x0805, 0x080a],
  rsa_pss_sha512: [0x0806, 0x080b],
};

/** OpenSSL's spelling of a signature scheme code point for SSL_CTX_set1_sigalgs_list. */
function opensslSigalg(code: number): string {
  const hashes = ['', 'MD5', 'SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'];
  const sigs = ['', 'RSA', 'DSA', 'ECDSA'];
  const h = code >> 8;
  const s = code & 0xff;
  // Legacy pairs without a TLS 1.3 name (DSA, SHA-1, SHA-224) use OpenSSL's "SIG+HASH" form.
  if (h >= 1 && h <= 6 && s >= 1 && s <= 3 && (s === 2 || h <= 3)) return `${sigs[s]}+${hashes[h]}`;
  return SIGNATURE_SCHEMES[code]!;
}

function items(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The `sigalgs` string for the enabled protocol versions: TLS12SignatureAlgorithms when only
 * TLS 1.2 and below are on, TLS13SignatureAlgorithms when only TLS 1.3 is, both (TLS 1.3's
 * first) otherwise. OpenSSL keeps one list for every version, so a shared code point counts once.
 */
export function sigalgsFor(tls12: string, tls13: string, useTls12: boolean, useTls13: boolean): string {
  const codes: number[] = [];
  const add = (c: number): void => {
    if (!codes.includes(c)) codes.push(c);
  };
  if (useTls13) for (const name of items(tls13)) for (const c of TLS13_SIGALG_CODES[name] ?? []) add(c);
  if (useTls12) for (const name of items(tls12)) add(TLS12_SIGALG_CODES[name]!);
  return codes.filter((c) => c !== undefined).map(opensslSigalg).join(':');
}

/** OpenSSL group names of the reference's group values. */
const GROUP_SETTING_NAMES: Record<string, string> = {
  ecdhe_secp256r1: 'P-256',
  ecdhe_secp384r1: 'P-384',
  ecdhe_secp521r1: 'P-521',
  ecdhe_x25519: 'X25519',
  ecdhe_x448: 'X448',
  ffdhe_2048: 'ffdhe2048',
  ffdhe_3072: 'ffdhe3072',
  ffdhe_4096: 'ffdhe4096',
  ffdhe_6144: 'ffdhe6144',
  ffdhe_8192: 'ffdhe8192',
};

/** Code points of the OpenSSL group names used above (for the negotiated-group estimate). */
export const GROUP_CODES: Record<string, number> = {
  'P-256': 0x0017,
  'P-384': 0x0018,
  'P-521': 0x0019,
  X25519: 0x001d,
  X448: 0x001e,
  ffdhe2048: 0x0100,
  ffdhe3072: 0x0101,
  ffdhe4096: 0x0102,
  ffdhe6144: 0x0103,
  ffdhe8192: 0x0104,
};

/** The `ecdhCurve` (groups) string for the enabled versions, chosen as `sigalgsFor` chooses. */
export function groupsFor(tls12: string, tls13: string, useTls12: boolean, useTls13: boolean): string {
  const out: string[] = [];
  const add = (name: string): void => {
    const g = GROUP_SETTING_NAMES[name];
    if (g && !out.includes(g)) out.push(g);
  };
  if (useTls13) items(tls13).forEach(add);
  // TLS 1.2 ECDHE uses only the EC groups of TLS12SupportedGroups.
  if (useTls12) items(tls12).forEach(add);
  return out.join(':');
}
