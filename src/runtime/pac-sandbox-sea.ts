// The single executable's way to pac-resolver's PAC functions (packages-sea.ts requires this file when a PAC is
// evaluated): a static import of `sandbox` alone lets esbuild leave pac-resolver's script compiler out of the
// executable, which a require() of the whole package would keep (and initialise on every PAC evaluation).
export { sandbox } from 'pac-resolver';
