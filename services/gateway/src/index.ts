export { startGateway, type GatewayHandle, type GatewayOptions } from './gateway.js';
export { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
export { TokenExpiredCloseCode, WsPath } from './ws/ws-server.js';
export { isNativeWebSockets } from './access/native-websockets.js';
