// One JSON line per event: the object first, a short message second.
export type Logger = (fields: Record<string, unknown>, msg: string) => void;

export const silentLogger: Logger = () => undefined;

export function jsonLineLogger(out: NodeJS.WritableStream): Logger {
  return (fields, msg) => {
    out.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
  };
}
