import { writePlaygroundModule } from '../../scripts/build-playground.js';

/** The browser tests test the playground's current source: it is built once per run. */
export default function setup() {
  writePlaygroundModule();
}
