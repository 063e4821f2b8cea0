// Imported before uPlot, which formats numbers with `new Intl.NumberFormat(navigator.language)` as its module
// loads: a browser on a Linux machine with a POSIX locale reports "en-US@posix", which Intl refuses, and the
// dashboard never started ("Loading vidstats…" forever; uPlot issue #1053, fixed upstream after 1.6.32, the
// latest release). Such a language is replaced by its valid part, or by English.

function accepted(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

function validLanguage(tag: string): string {
  if (accepted(tag)) return tag;
  const base = tag.split("@")[0].replace(/_/g, "-");
  return base && accepted(base) ? base : "en-US";
}

const language = validLanguage(navigator.language);
if (language !== navigator.language) {
  Object.defineProperty(navigator, "language", { value: language, configurable: true });
}
