import { TajoClient } from '@tajo/sdk';

const tajo = new TajoClient({
  apiKey: process.env.TAJO_API_KEY,
  brevoApiKey: process.env.BREVO_API_KEY,
  baseUrl: process.env.TAJO_BASE_URL,
});

// Connect ActiveCampaign
await tajo.connectors.connect('activecampaign', {
  apiUrl: 'https://yourcompany.api-us1.com',
  apiKey: process.env.AC_API_KEY,
});

// Start a full sync
await tajo.connectors.sync('activecampaign', {
  type: 'full',
  resources: ['contacts', 'deals', 'events'],
  options: {
    includeTags: true,
    includeCustomFields: true,
    includeScores: true,
    includeListMemberships: true,
  },
});
