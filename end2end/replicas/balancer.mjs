// A round-robin TCP balancer for the replica spec (scripts/e2e.sh starts
// it): each new connection goes to the next board process in turn, as a
// layer-4 load balancer in front of a Deployment's replicas does.
// Usage: node balancer.mjs <port> <host:port> <host:port>...
import net from 'node:net';

const [port, ...backends] = process.argv.slice(2);
if (!port || backends.length === 0) {
  console.error('usage: balancer.mjs <port> <host:port>...');
  process.exit(2);
}
let next = 0;
net.createServer((client) => {
  const [host, p] = backends[next++ % backends.length].split(':');
  const upstream = net.connect(Number(p), host);
  client.pipe(upstream);
  upstream.pipe(client);
  const end = () => { client.destroy(); upstream.destroy(); };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
}).listen(Number(port), '127.0.0.1', () => console.log(`balancer on ${port} -> ${backends.join(' ')}`));
