// The production build `npm start` would make, made only when the sources changed since the last one.
import { buildIfNeeded } from './launcher';

await buildIfNeeded((line) => console.log(line));
