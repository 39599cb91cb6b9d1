// Markdown tables and a hand-written SVG chart from the load benchmark's results.

const REFERENCE = 'ws-native'; // the column "× ws + bufferutil" compares against this server

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmt = (n, d = 1) => (n === null || n === undefined || Number.isNaN(n) ? '—' : n.toFixed(d));
const escapeXml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Whether a generator process used (nearly) all of its core: then the numbers are a lower bound. */
export const SATURATED = 90;

function labelOf(result, id) {
  return result.servers.find((s) => s.id === id)?.label ?? id;
}

function checkCell(row) {
  if (row.status !== 'ok') return row.status;
  const parts = [];
  parts.push(row.verifyBefore ? 'ok' : '—');
  if (row.verifyAfter?.error) parts.push(`**after: ${row.verifyAfter.error}**`);
  else if (row.verifyAfter) parts.push('ok');
  return parts.join(' / ');
}

function throughputTable(result, name, rows) {
  const ref = rows.find((r) => r.server === REFERENCE && r.status === 'ok');
  const lines = [
    `| server | msg/s | MB/s | × ${labelOf(result, REFERENCE)} | msg per server CPU-second | p50 ms | p99 ms | mean ms | server CPU % | generator CPU % | saturated | server ELD p50 / p99 ms | server RSS MB start → end | check before / after |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |',
  ];
  const notes = [];
  for (const r of rows) {
    const label = labelOf(result, r.server);
    if (r.status !== 'ok') {
      lines.push(`| ${label} | ${r.status} | | | | | | | | | | | | ${r.status === 'not available' ? 'see above' : escapeMd(r.error ?? '')} |`);
      continue;
    }
    const perCpu = r.serverCpu > 0 ? r.msgsPerSec / (r.serverCpu / 100) : null;
    const metric = result.scenarios[name].metric === 'msgs' ? 'msgsPerSec' : 'mbPerSec';
    const ratio = ref ? r[metric] / ref[metric] : null;
    const gen = r.generatorCpu.map((c) => fmt(c, 0)).join(' + ');
    lines.push(
      `| ${label} | ${fmtInt(r.msgsPerSec)} | ${fmt(r.mbPerSec)} | ${ratio === null ? '—' : `${ratio.toFixed(2)}×`} | ${perCpu === null ? '—' : fmtInt(perCpu)} | ${fmt(r.p50ms, 2)} | ${fmt(r.p99ms, 2)} | ${fmt(r.meanMs, 2)} | ${fmt(r.serverCpu, 0)} | ${gen} | ${saturation(r)} | ${r.eld ? `${fmt(r.eld.p50, 2)} / ${fmt(r.eld.p99, 2)}` : '—'} | ${fmt(r.rssStartMB, 0)} → ${fmt(r.rssEndMB, 0)} | ${checkCell(r)} |`,
    );
    const errs = [...new Set(r.generatorErrors ?? [])];
    if (errs.length) notes.push(`${label}: the generator saw ${errs.slice(0, 3).join('; ')}.`);
    if (r.deadConnections) notes.push(`${label}: ${r.deadConnections} connections were closed by the server during the run.`);
    if (r.serverStderr?.length) notes.push(stderrNote(label, r));
    if (result.scenarios[name].message.deflate && r.verifyBefore?.compressedReplies === 0)
      notes.push(`${label}: replies were not compressed (permessage-deflate negotiated, echo sent uncompressed).`);
  }
  const ok = rows.filter((r) => r.status === 'ok');
  if (ok.length) {
    const r0 = ok[0];
    notes.unshift(
      `${r0.connections} connections × ${r0.window} in flight; ${fmtInt(r0.messageBytes)}-byte messages, ${fmtInt(r0.wireBytesSent)}-byte frames from the client` +
        `; replies on the wire: ${ok.map((r) => `${labelOf(result, r.server)} ${fmtInt(r.verifyBefore.wireBytesPerReply)}`).join(', ')} bytes` +
        '.',
    );
  }
  return [...lines, '', ...notes.map((n) => `- ${n}`)].join('\n');
}

function idleTable(result, name, rows) {
  const lines = [
    '| server | connections | opened in s | RSS before MB | RSS after MB | KB per connection (after GC) | KB per connection (before GC) | JS heap KB per connection | check before / after |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const notes = [];
  for (const r of rows) {
    const label = labelOf(result, r.server);
    if (r.status !== 'ok') {
      lines.push(`| ${label} | ${r.status} | | | | | | | ${r.status === 'not available' ? 'see above' : escapeMd(r.error ?? '')} |`);
      continue;
    }
    lines.push(`| ${label} | ${fmtInt(r.connections)} | ${fmt(r.connectSeconds)} | ${fmt(r.baseRssMB, 0)} | ${fmt(r.rssMB, 0)} | ${fmt(r.kbPerConn)} | ${fmt(r.kbPerConnBeforeGc)} | ${fmt(r.heapKbPerConn)} | ${checkCell(r)} |`);
    if (r.note) notes.push(`${label}: ${r.note}.`);
    if (r.serverStderr?.length) notes.push(stderrNote(label, r));
  }
  return [...lines, '', ...notes.map((n) => `- ${n}`)].join('\n');
}

/** Which side ran out of CPU: the server (what we want to measure), the generator, both, or neither. */
export function saturation(r) {
  const server = r.serverCpu >= SATURATED;
  const gen = r.generatorLoad >= SATURATED;
  return server && gen ? 'both' : server ? 'server' : gen ? '**generator**' : 'neither';
}

function stderrNote(label, r) {
  const counts = Object.entries(r.serverStderrCounts ?? {}).map(([phase, n]) => `${n} during ${phase}`).join(', ');
  return `${label}: server stderr (${counts}), first: \`${escapeMd(r.serverStderr[0])}\`.`;
}

function escapeMd(s) {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(result, chartFile = 'load.svg') {
  const { meta } = result;
  const out = [
    '# End-to-end echo load benchmark',
    '',
    `Machine: ${meta.cpu}, ${meta.cores} cores, ${meta.platform}. Node ${meta.node}. Date: ${meta.date.slice(0, 16).replace('T', ' ')} UTC. ` +
      `Load average (1/5/15 min) ${meta.loadAverageBefore} before the run, ${meta.loadAverageAfter} after: the machine is shared, and other work on it shows as server CPU below 100 %.`,
    '',
    `Code: wsworks ${meta.git ? `commit ${meta.git.commit}${meta.git.changedSourceFiles ? ` with ${meta.git.changedSourceFiles} uncommitted file(s) in src/ or assembly/` : ''}` : '(no git)'}, \`dist/\` built ${meta.distBuilt?.slice(0, 16).replace('T', ' ')} UTC${meta.distStale ? ' (**older than src/ or assembly/**)' : ''}.`,
    '',
    `Command: \`${meta.command}\` (${meta.totalSeconds} s). Warmup ${meta.warmupSeconds} s, measured ${meta.measureSeconds} s per server and scenario; ` +
      (meta.pinning ? `servers pinned to CPU ${meta.pinning.servers}, ${meta.generators} generator process(es) pinned to CPU ${meta.pinning.generators}.` : 'no CPU pinning.'),
    '',
    'Each server runs as its own process and is checked byte for byte (one connection, three messages back to back, compressed replies inflated) before and after it is measured. ' +
      'msg/s counts whole echoed messages received by the generator; MB/s is msg/s × message size (10^6 bytes, uncompressed payload). Latency is the time from sending a message to receiving its echo, with the window of messages in flight queued ahead of it (so mean ≈ messages in flight ÷ msg/s; p50 far below the mean means some connections are served in bursts while others wait). ' +
      'Server CPU is utime+stime of the server process over the window (100 % = one core); msg per server CPU-second divides msg/s by it, which is steadier than msg/s when other work on the machine takes CPU time from the server; server ELD is its event-loop delay beyond a 10 ms timer. ' +
      `Generator CPU is the same for the generator process(es). "Saturated" says who used ≥ ${SATURATED} % of their core(s): "server" is a clean measurement; "generator" means the load generator, not the server, may have set the pace; "neither" means the window of messages in flight or other work on the machine did. Method and settings: \`bench/load/README.md\`.`,
    '',
  ];
  const kernelInfo = result.rows.find((r) => r.server === 'ws-native' && r.serverInfo?.kernels)?.serverInfo.kernels;
  const jsInfo = result.rows.find((r) => r.server === 'ws-js' && r.serverInfo?.kernels)?.serverInfo.kernels;
  if (kernelInfo || jsInfo) {
    out.push(
      `ws ${kernelInfo?.ws ?? jsInfo?.ws}: ` +
        [kernelInfo && `"ws + bufferutil" masks with ${kernelInfo.mask} and validates UTF-8 with ${kernelInfo.utf8} (utf-8-validate ${kernelInfo.utf8Validate})`, jsInfo && `"ws (pure JS)" masks with ${jsInfo.mask} and validates UTF-8 with ${jsInfo.utf8}`]
          .filter(Boolean)
          .join('; ') +
        '.',
      '',
    );
  }
  const unavailable = result.servers.filter((s) => !s.available);
  if (unavailable.length) out.push(`Not available in this build: ${unavailable.map((s) => `${s.label} (${s.unavailable})`).join('; ')}.`, '');
  out.push(`![chart](${chartFile})`, '');
  for (const [name, scenario] of Object.entries(result.scenarios)) {
    const rows = result.rows.filter((r) => r.scenario === name);
    out.push(`## ${scenario.title}`, '', scenario.idle ? idleTable(result, name, rows) : throughputTable(result, name, rows), '');
  }
  return out.join('\n');
}

const COLORS = ['#1f6fb2', '#5aa0d8', '#0b8f6a', '#66c2a4', '#d4731c', '#f0a94e', '#8a5bb5', '#b08bd6'];
const METRIC = {
  msgs: { key: 'msgsPerSec', unit: 'msg/s', better: 'higher is better', fmt: (v) => (v >= 1e4 ? `${(v / 1000).toFixed(0)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0)) },
  mbps: { key: 'mbPerSec', unit: 'MB/s', better: 'higher is better', fmt: (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1)) },
  kbPerConn: { key: 'kbPerConn', unit: 'KB per connection', better: 'lower is better', fmt: (v) => v.toFixed(1) },
};

/** One group per scenario, one bar per server, heights normalised to the scenario's largest value. */
export function renderSvg(result) {
  const servers = result.servers;
  const scenarios = Object.entries(result.scenarios);
  const barW = 26;
  const barGap = 4;
  const groupGap = 34;
  const groupW = servers.length * (barW + barGap) - barGap;
  const left = 20;
  const top = 70;
  const plotH = 220;
  const width = Math.max(640, left * 2 + scenarios.length * (groupW + groupGap) - groupGap);
  const height = top + plotH + 78;
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">wsworks end-to-end echo benchmark — ${escapeXml(result.meta.cpu)}, Node ${escapeXml(result.meta.node)}, ${result.meta.date.slice(0, 10)}</text>`);
  // Legend.
  let lx = left;
  servers.forEach((s, i) => {
    parts.push(`<rect x="${lx}" y="32" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    const text = `${s.label}${s.available ? '' : ' (n/a)'}`;
    parts.push(`<text x="${lx + 16}" y="42">${escapeXml(text)}</text>`);
    lx += 30 + text.length * 6.6;
  });
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - left}" y2="${top + plotH}" stroke="#888"/>`);
  scenarios.forEach(([name, scenario], g) => {
    const metric = METRIC[scenario.metric];
    const x0 = left + g * (groupW + groupGap);
    const rows = servers.map((s) => result.rows.find((r) => r.scenario === name && r.server === s.id));
    const values = rows.map((r) => (r && r.status === 'ok' ? r[metric.key] : null));
    const max = Math.max(...values.filter((v) => v !== null), 0);
    values.forEach((v, i) => {
      const x = x0 + i * (barW + barGap);
      if (v === null) {
        parts.push(`<text x="${x + barW / 2}" y="${top + plotH - 4}" text-anchor="middle" fill="#999" font-size="9">n/a</text>`);
        return;
      }
      const h = max > 0 ? Math.max(1, (v / max) * plotH) : 1;
      const y = top + plotH - h;
      parts.push(`<rect x="${x}" y="${y.toFixed(1)}" width="${barW}" height="${h.toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${escapeXml(`${servers[i].label}: ${v.toFixed(2)} ${metric.unit}`)}</title></rect>`);
      parts.push(`<text x="${x + barW / 2}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9">${escapeXml(metric.fmt(v))}</text>`);
    });
    const cx = x0 + groupW / 2;
    parts.push(`<text x="${cx}" y="${top + plotH + 16}" text-anchor="middle" font-weight="bold">${escapeXml(name)}</text>`);
    parts.push(`<text x="${cx}" y="${top + plotH + 30}" text-anchor="middle" fill="#444">${escapeXml(metric.unit)}</text>`);
    parts.push(`<text x="${cx}" y="${top + plotH + 43}" text-anchor="middle" fill="#777" font-size="9">${escapeXml(metric.better)}</text>`);
  });
  parts.push(`<text x="${left}" y="${height - 8}" fill="#555" font-size="10">Bars are normalised per scenario (tallest = best for throughput, largest for memory). ${escapeXml(result.meta.command)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
