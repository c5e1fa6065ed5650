/**
 * Reading a JSON request body on a published port: refused past a size before it is buffered, and only a JSON
 * object (the demo's APIs take parameters, never arrays or scalars). Shared by the services and the control API.
 */
export const MAX_BODY_BYTES = 64 * 1024;

export class BodyError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The body as a JSON object ({} when empty); BodyError 413 past MAX_BODY_BYTES, 400 when not a JSON object. */
export function readJsonBody(req, limit = MAX_BODY_BYTES) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyError(413, `the request body is larger than ${limit} bytes`));
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyError(413, `the request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limit) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        return reject(new BodyError(400, 'the request body must be a JSON object of parameters'));
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return reject(new BodyError(400, 'the request body must be a JSON object of parameters'));
      resolve(parsed);
    });
  });
}
