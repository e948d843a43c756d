// writeCoalesced holds a turn's frames for one socket and sends them together; flushCoalesced sends
// them at once. Checked on a real loopback connection: what is held (the socket's cork count),
// and what the other end receives, in order.

import net from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import { flushCoalesced, writeCoalesced } from '../src/rpc/coalesced-write.js'

async function connectedPair(): Promise<{ writer: net.Socket; received: () => string; close: () => void }> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address() as net.AddressInfo
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const writer = net.connect(address.port, '127.0.0.1')
  await once(writer, 'connect')
  const [reader] = await accepted
  let text = ''
  reader.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
  return {
    writer,
    received: () => text,
    close: () => {
      writer.destroy()
      reader.destroy()
      server.close()
    },
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1')
/** Waits until the other end has received `expected` (or 5 s have passed), and says what it has. */
async function arrival(received: () => string, expected: string): Promise<string> {
  const deadline = Date.now() + 5000
  while (received().length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  return received()
}

t.test('frames written in one turn are held until its end, then leave together, in order', async (t) => {
  const { writer, received, close } = await connectedPair()
  t.teardown(close)
  writeCoalesced(writer, bytes('a'))
  writeCoalesced(writer, bytes('b'))
  t.equal(writer.writableCorked, 1, 'held: one cork for the turn, however many frames')
  await turn()
  t.equal(writer.writableCorked, 0, 'released at the end of the turn')
  t.equal(await arrival(received, 'ab'), 'ab')
})

t.test('flushCoalesced sends at once; a socket written again after a flush is released exactly once', async (t) => {
  const { writer, received, close } = await connectedPair()
  t.teardown(close)
  writeCoalesced(writer, bytes('1'))
  flushCoalesced()
  t.equal(writer.writableCorked, 0, 'sent before the turn ends')
  t.equal(await arrival(received, '1'), '1', 'and the other end receives it')

  writeCoalesced(writer, bytes('2'))
  flushCoalesced()
  writeCoalesced(writer, bytes('3'))
  t.equal(writer.writableCorked, 1, 'corked again by the write after the flush')
  await turn()
  await turn()
  t.equal(writer.writableCorked, 0, 'both turns’ releases together undo exactly the two corks')
  writeCoalesced(writer, bytes('4'))
  t.equal(writer.writableCorked, 1, 'a later write still holds its frame for the turn')
  await turn()
  t.equal(writer.writableCorked, 0)
  t.equal(await arrival(received, '1234'), '1234', 'every frame arrives, in order')
})
