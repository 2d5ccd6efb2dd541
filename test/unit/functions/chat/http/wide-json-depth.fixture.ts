import { nestsDeeperThan } from '../../../../../functions/chat/http/json-depth.js';

// A body of numbers, as a 6 MB request can carry millions of them.
const wide = { pad: new Array<number>(Number(process.argv[2])).fill(0) };
console.log(String(nestsDeeperThan(wide, 128)));
