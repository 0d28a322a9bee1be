// Suggestions for a new workspace's slug and issue prefix, derived from its name.
const slugMax = 40;

export function suggestSlug(name: string): string {
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, slugMax)
    .replace(/-+$/g, '');
  return ascii.length >= 3 ? ascii : '';
}

export function suggestIssuePrefix(name: string): string {
  const words = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  const first = words[0];
  if (!first) return '';
  let prefix = words.length > 1 ? words.slice(0, 4).map((w) => w[0]).join('') : first.slice(0, 3);
  if (prefix.length < 2) prefix = (first + (words[1] ?? '')).slice(0, 3);
  prefix = prefix.replace(/^[0-9]+/, '').slice(0, 10);
  return /^[A-Z][A-Z0-9]{1,9}$/.test(prefix) ? prefix : '';
}
