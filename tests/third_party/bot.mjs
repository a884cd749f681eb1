// A bot written with npm's asterisk-audiosocket, as its README shows:
// for every call it plays two seconds of a 1 kHz tone with the library's
// paced play(), then one second at once with writeFrame() (the burst the
// library warns about), counts the caller's frames that carry the tone
// back (the far end echoes), and hangs up. One line per event on stdout.
//
// node bot.mjs <path to the library's dist/index.js>
import { pathToFileURL } from 'node:url';

const { AudioSocketServer, FRAME_BYTES } = await import(pathToFileURL(process.argv[2]).href);

function tone(frames) {
  const pcm = Buffer.alloc(frames * FRAME_BYTES);
  for (let i = 0; i < pcm.length / 2; i++) {
    pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)), 2 * i);
  }
  return pcm;
}

const server = new AudioSocketServer({ host: '127.0.0.1', port: 0 });
server.on('connection', (call) => {
  let frames = 0;
  let loud = 0;
  const errors = [];
  call.on('error', (e) => errors.push(e.message));
  call.on('audio', (pcm) => {
    frames++;
    let peak = 0;
    for (let i = 0; i + 1 < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
    if (peak > 4000) loud++;
  });
  call.on('hangup', () => {
    console.log(`HANGUP ${call.uuid} frames=${frames} loud=${loud} errors=${errors.length} ${errors.join('; ')}`);
  });
  call.on('id', async (uuid) => {
    console.log(`ID ${uuid}`);
    if (uuid.endsWith('0000000000ff')) return; // the call the far end hangs up
    await call.play(tone(100));
    const burst = tone(50);
    for (let k = 0; k < 50; k++) call.writeFrame(burst.subarray(k * FRAME_BYTES, (k + 1) * FRAME_BYTES));
    // The burst plays at real time on the far side, and comes back.
    setTimeout(() => {
      console.log(`DONE ${uuid} frames=${frames} loud=${loud} errors=${errors.length} ${errors.join('; ')}`);
      call.hangup();
    }, 1800);
  });
});
await server.listen();
console.log(`LISTENING ${server.address.port}`);
