import { type ErrorCode, encodeText, type ServerFrame, ServerFrameSchema, ServerFrameType } from '@tabmesh/contracts';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { Socket } from './socket-data.js';

/** Validates and sends one frame to one socket. */
export function sendFrame(ws: Socket, frame: ServerFrame, metrics: GatewayMetrics): void {
  sendText(ws, encodeText(ServerFrameSchema, frame, `${frame.type} frame`), frame.type, metrics);
}

/** Sends an already validated frame. */
export function sendText(ws: Socket, text: string, type: string, metrics: GatewayMetrics): void {
  ws.send(text, false);
  metrics.wsFramesSent.inc({ type });
}

export function sendError(ws: Socket, code: ErrorCode, detail: string, metrics: GatewayMetrics): void {
  sendFrame(ws, { v: 1, type: ServerFrameType.Error, code, detail }, metrics);
}
