from zdravkograd.engine import Value

a = Value(2.0)
b = Value(-3.0)
c = Value(10.0)
e = a * b
d = e + c
f = Value(-2.0)
L = d * f

L.backward()

print(f'{L.data=}') # Output of the forward pass
print(f'{a.grad=}') # derivative of L with respect to a
print(f'{b.grad=}') # derivative of L with respect to b
