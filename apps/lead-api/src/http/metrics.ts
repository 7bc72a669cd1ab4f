/** In-process counters an operator reads at `GET /metrics` (Prometheus text format). */
export class Counters {
  honeypotCaught = 0;

  render(): string {
    return [
      '# HELP lead_honeypot_caught_total Submissions that filled the honeypot field: answered as created, nothing stored.',
      '# TYPE lead_honeypot_caught_total counter',
      `lead_honeypot_caught_total ${this.honeypotCaught}`,
      '',
    ].join('\n');
  }
}
