export { acefleet, cliJson as json, operatorDir, type CliRun } from '@acefleet/testkit';

/** Lines of `text` wider than `width` columns. */
export function wideLines(text: string, width = 80): string[] {
  return text.split('\n').filter((l) => [...l].length > width);
}
