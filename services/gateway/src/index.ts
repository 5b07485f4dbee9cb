export { startGateway, type GatewayHandle, type GatewayOptions } from './gateway.js';
export { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
