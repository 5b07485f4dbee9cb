export { isNativeWebSockets } from './access/native-websockets.js';
export { type GatewayHandle, type GatewayOptions, startGateway } from './gateway.js';
export { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
export { type HttpServer, startHttpServer } from './http/server.js';
export { TokenExpiredCloseCode, WsPath } from './ws/ws-server.js';
