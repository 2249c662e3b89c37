'use strict';

// "npm run build" of the sample frontend: copies src/server.js to dist/server.js.
const fs = require('fs');
const path = require('path');

const dist = path.join(__dirname, 'dist');
fs.mkdirSync(dist, { recursive: true });
fs.copyFileSync(path.join(__dirname, 'src', 'server.js'), path.join(dist, 'server.js'));
console.log('built dist/server.js');
