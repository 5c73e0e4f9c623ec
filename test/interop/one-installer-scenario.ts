/**
 * A minimal scenario for interop tests that need a real run's artifacts: one signed demo
 * installer offered by option 114, the run's test db, and the given device lines (YAML,
 * already indented as list items under `devices:`).
 */
export function oneInstallerScenario(name: string, devices: string, opts: { golden?: boolean } = {}): string {
  return `
name: ${name}
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
    classes: [{ name: onie, match: { vendorClassPrefix: "onie_vendor:" }, options: { defaultUrl: "http://{http}/nos.bin" } }]
images: [{ name: nos, source: images/demo-nos, publish: [nos.bin] }]
trust: { db: [db-ca] }
${opts.golden ? 'attestation: { goldenImage: nos }\n' : ''}devices:
${devices}
`;
}
