// The desktop's proxy settings (REFERENCE.md §6), read into one shape whatever the desktop: route consults them only
// when no flag, BURROW_PROXY, config, PAC option or proxy variable decides.

export type SystemProxyKind = 'gnome' | 'kde' | 'macos' | 'windows';

export interface SystemProxySettings {
  kind: SystemProxyKind;
  /** Names the settings for people, e.g. "GNOME proxy settings (org.gnome.system.proxy)". */
  origin: string;
  /** none: the desktop says direct; manual: `proxy`; auto: the PAC file at `pacUrl`. */
  mode: 'none' | 'manual' | 'auto';
  /** The proxy for a TCP target, as a proxy URL (https's setting first, then SOCKS, then HTTP). */
  proxy?: string;
  pacUrl?: string;
  /** The desktop's exceptions in NO_PROXY syntax (Go rules; converted where the desktop's syntax differs). */
  bypass: string[];
  /** Where the exceptions came from, for `route` ("ignore-hosts", "NoProxyFor", …). */
  bypassName: string;
  /** Names without a dot go direct (Windows' `<local>`, macOS' ExcludeSimpleHostnames). */
  bypassSimpleNames: boolean;
  /** What could not be used (an exception pattern burrow cannot express, WPAD), for `route`'s warnings. */
  warnings: string[];
}

/** Runs a reading command (gsettings, scutil, reg); undefined when it is missing, fails or times out. Injected in tests. */
export type RunCommand = (file: string, args: string[]) => string | undefined;
