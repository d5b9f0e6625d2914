// The floor any Node ProxyCommand has (bench/main.ts start-up rows): the smallest CONNECT client Node can run,
// `node bench/node-connect.cjs PROXYHOST PROXYPORT HOST PORT`. No error handling, no auth, no options.
const net = require('node:net');
const [proxyHost, proxyPort, host, port] = process.argv.slice(2);
const socket = net.connect(Number(proxyPort), proxyHost, () => socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
socket.once('data', (head) => {
  process.stdout.write(head.subarray(head.indexOf('\r\n\r\n') + 4));
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
});
