socket.on('gpu_metrics', (data) => {
    console.log('GPU metrics:', data);
    // {
    //     timestamp: '2025-01-01T12:00:00Z',
    //     gpu_id: 0,
    //     utilization: 89.1,
    //     memory_used: 19276,
    //     temperature: 72
    // }
});
