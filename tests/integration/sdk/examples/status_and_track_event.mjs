import { TajoClient } from '@tajo/sdk';

const tajo = new TajoClient({
  apiKey: process.env.TAJO_API_KEY,
  brevoApiKey: process.env.BREVO_API_KEY,
  baseUrl: process.env.TAJO_BASE_URL,
});

// Check sync status
const status = await tajo.connectors.status('activecampaign');
console.log(status);
// { connected: true, lastSync: '2024-01-15T10:30:00Z', contactsMigrated: 28000, dealsSynced: 4500, eventsSynced: 120000 }

// Track a custom event
await tajo.activecampaign.trackEvent({
  event: 'purchase_completed',
  eventData: { orderId: 'ORD-123', amount: 99.99 },
  email: 'customer@example.com',
});
