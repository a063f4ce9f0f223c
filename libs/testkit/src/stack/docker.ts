import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function dockerAvailable(): Promise<boolean> {
  return run('docker', ['info']).then(
    () => true,
    () => false,
  );
}

/** Ids of containers (running or not) carrying every label given as `key=value`. */
export async function containersWithLabels(labels: string[]): Promise<string[]> {
  const filters = labels.flatMap((l) => ['--filter', `label=${l}`]);
  const { stdout } = await run('docker', ['ps', '-aq', '--no-trunc', ...filters]);
  return stdout.split('\n').filter(Boolean);
}

export async function inspectContainer(
  id: string,
): Promise<{ Config: { Labels: Record<string, string> }; State: { Running: boolean } }> {
  const { stdout } = await run('docker', ['inspect', id]);
  return (
    JSON.parse(stdout) as [{ Config: { Labels: Record<string, string> }; State: { Running: boolean } }]
  )[0];
}

/** Remove test containers by label (tests label engines with a host id of their own). */
export async function removeContainersWithLabels(labels: string[]): Promise<void> {
  const ids = await containersWithLabels(labels);
  // A container that went meanwhile (its manager removed it) fails the command: the aim is met all the same.
  if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]).catch(() => {});
}
