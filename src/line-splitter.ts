/**
 * Line mode (ChangeLineMode): turns the bytes of received messages into lines.
 * A line ends at LF; a CR right before it is dropped with it. A line that reaches the
 * connection's MaxLineLength is handed out without EOL so memory stays bounded.
 */

/** Receives each line: the bytes without the line ending, and whether an EOL ended it. */
export type LineSink = (line: Buffer, eol: boolean) => void;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partsLength = 0;

  /** Bytes of an unfinished line held until its end (or MaxLineLength) arrives. */
  get buffered(): number {
    return this.partsLength;
  }

  /** Feeds bytes; calls `sink` for every complete (or over-long) line. */
  push(data: Buffer, maxLineLength: number, sink: LineSink): void {
    let start = 0;
    while (start < data.length) {
      const room = maxLineLength - this.partsLength;
      const lf = data.indexOf(0x0a, start);
      const end = lf < 0 ? data.length : lf;
      if (end - start >= room) {
        // The line reached MaxLineLength before its end: deliver what fits, EOL=false.
        this.parts.push(data.subarray(start, start + room));
        this.partsLength += room;
        start += room;
        sink(this.take(), false);
        continue;
      }
      if (lf < 0) {
        this.parts.push(data.subarray(start));
        this.partsLength += data.length - start;
        return;
      }
      this.parts.push(data.subarray(start, lf));
      this.partsLength += lf - start;
      start = lf + 1;
      let line = this.take();
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      sink(line, true);
    }
  }

  /** Hands out what is buffered (a line without its end yet), if anything, and empties the buffer. */
  flush(sink: LineSink): void {
    if (this.partsLength > 0) sink(this.take(), false);
  }

  private take(): Buffer {
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength);
    this.parts = [];
    this.partsLength = 0;
    return line;
  }
}
