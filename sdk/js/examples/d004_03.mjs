socket.on('system_metrics', (data) => {
    console.log('System metrics:', data);
    // {
    //     timestamp: '2025-01-01T12:00:00Z',
    //     cpu_usage: 45.2,
    //     memory_usage: 67.8,
    //     request_rate: 42.3
    // }
});
