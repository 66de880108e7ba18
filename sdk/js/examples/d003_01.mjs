import { AIClient } from '@meshserve/client';

const client = new AIClient({ apiKey: 'your-key' });

// Smart inference with auto-routing
const response = await client.smartInference({
  task: 'text-generation',
  prompt: 'Write a poem',
  priority: 'balanced'
});

// Real-time monitoring
client.on('performance', (metrics) => {
  console.log('Current performance:', metrics);
});
