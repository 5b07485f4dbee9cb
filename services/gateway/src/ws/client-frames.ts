import { type ClientFrame, ClientFrameSchema, decode, ValidationError } from '@tabmesh/contracts';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads one client frame; throws ValidationError with a reason the client can act on. */
export function parseClientFrame(message: ArrayBuffer, isBinary: boolean): ClientFrame {
  if (isBinary) throw new ValidationError('frame: binary frames are not accepted; send JSON text');
  let text: string;
  try {
    text = decoder.decode(message);
  } catch {
    throw new ValidationError('frame: not valid UTF-8');
  }
  return decode(ClientFrameSchema, text, 'frame');
}
