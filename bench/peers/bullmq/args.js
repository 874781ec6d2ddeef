'use strict';
// --name value options, with defaults; environment variables as fallbacks.
function parseArgs(defaults) {
  const options = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in defaults)) {
      console.error(`unknown argument ${argv[i]}; options: ${Object.keys(defaults).map((k) => '--' + k).join(' ')}`);
      process.exit(2);
    }
    options[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
    if (options[m[1]] === undefined) {
      console.error(`--${m[1]} needs a value`);
      process.exit(2);
    }
  }
  return options;
}

function redisConnection(url) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number((u.pathname || '/0').slice(1) || 0),
    maxRetriesPerRequest: null, // what BullMQ workers require
  };
}

module.exports = { parseArgs, redisConnection };
