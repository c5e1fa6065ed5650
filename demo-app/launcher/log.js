/** The launcher's own log lines: logfmt on stdout (errors on stderr), like the services' stdout lines. */
function value(v) {
  const s = String(v);
  return /^[\w.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

export function launcherLog(level, msg, fields = {}) {
  const extra = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${value(v)}`)
    .join('');
  const line = `ts=${new Date().toISOString()} level=${level} service=launcher msg=${value(msg)}${extra}\n`;
  (level === 'error' ? process.stderr : process.stdout).write(line);
}
