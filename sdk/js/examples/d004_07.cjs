const { LlamaGPUClient } = require('@meshserve/client');

// Initialize client
const client = new LlamaGPUClient({
    baseUrl: 'http://localhost:5000',
    apiKey: 'your_api_key_here'
});

// Single inference
async function runInference() {
    try {
        const result = await client.infer({
            text: "Explain artificial intelligence",
            model: "llama2-7b",
            maxTokens: 200
        });

        console.log(result.generatedText);
        console.log(`Generated ${result.tokensGenerated} tokens`);
    } catch (error) {
        console.error('Inference failed:', error.message);
    }
}

// Streaming inference
async function streamInference() {
    const stream = client.streamInfer({
        text: "Write a short story",
        maxTokens: 300
    });

    for await (const token of stream) {
        process.stdout.write(token.text);
    }
}

// WebSocket monitoring
const socket = client.createSocket();

socket.on('connect', () => {
    console.log('Connected to WebSocket');
    socket.emit('subscribe', { channels: ['system_metrics'] });
});

socket.on('system_metrics', (data) => {
    console.log('System metrics:', data);
});

runInference();
